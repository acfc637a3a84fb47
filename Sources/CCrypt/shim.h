// libxcrypt (Debian's libcrypt-dev): crypt_r and crypt_gensalt_rn, which Glibc's module
// does not expose to Swift.
#include <crypt.h>
