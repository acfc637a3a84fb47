import Foundation
import KubeClient
import KubeModel
import Synchronization
import Testing
