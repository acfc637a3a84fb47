import TestSupport
import Foundation
import Rotation
import Testing
import X509
