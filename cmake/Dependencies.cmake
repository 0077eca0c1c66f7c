# Every external library through pkg-config imported targets.  A missing one
# stops the configuration with the Debian package that provides it.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: install the Debian package pkg-config")
endif()

function(mxd_require name module debian_package)
  pkg_check_modules(${name} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR
      "${module} (pkg-config) not found: install the Debian package ${debian_package}"
      " (apt-get install ${debian_package})")
  endif()
  message(STATUS "Found ${module} ${${name}_VERSION}")
endfunction()

mxd_require(ETPAN     libetpan   libetpan-dev)
mxd_require(GNUTLS    gnutls     libgnutls28-dev)
# GnuTLS's own crypto library: util/sha256.c takes SHA-256 from it.
mxd_require(NETTLE    nettle     nettle-dev)
mxd_require(JSONC     json-c     libjson-c-dev)
mxd_require(ZLIB      zlib       zlib1g-dev)
mxd_require(SQLITE    sqlite3    libsqlite3-dev)
# The store shared by several hosts (database = postgresql://...).
mxd_require(PQ        libpq      libpq-dev)
# The store's raw copies: zstd with dictionaries trained from its messages.
mxd_require(ZSTD      libzstd    libzstd-dev)
mxd_require(XLSXWRITER xlsxwriter libxlsxwriter-dev)
mxd_require(INIH      inih       libinih-dev)
# Debian's libunbound.pc names libevent in Requires.private, and
# libunbound-dev does not pull libevent-dev in: without it pkg-config
# says libunbound is missing.
mxd_require(UNBOUND   libunbound "libunbound-dev and libevent-dev")
mxd_require(OPENDKIM  opendkim   libopendkim-dev)
# The HTTPS probes of check/ (MTA-STS policy, https: report endpoints),
# with GnuTLS underneath like the rest of the program.
mxd_require(CURL      libcurl    libcurl4-gnutls-dev)
# libopendkim's crypto library: dkim/keys.c keeps its decoded keys.
mxd_require(LIBCRYPTO libcrypto  libssl-dev)

# Debian's libetpan.pc links with -specs=/usr/share/dpkg/no-pie-link.specs,
# which makes binaries non-PIE and fails without libdpkg-perl.  Drop every
# link option it carries and keep only the libraries.
set_target_properties(PkgConfig::ETPAN PROPERTIES INTERFACE_LINK_OPTIONS "")
get_target_property(_etpan_libs PkgConfig::ETPAN INTERFACE_LINK_LIBRARIES)
if(_etpan_libs)
  list(FILTER _etpan_libs EXCLUDE REGEX "specs=")
  set_target_properties(PkgConfig::ETPAN PROPERTIES INTERFACE_LINK_LIBRARIES "${_etpan_libs}")
endif()

if(MXD_TESTS)
  pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET GLOBAL cmocka)
  if(NOT CMOCKA_FOUND)
    if(MXD_TESTS STREQUAL "AUTO")
      message(STATUS "cmocka not found: the test suite is not built"
                     " (install libcmocka-dev to build it)")
      set(MXD_TESTS OFF)
    else()
      message(FATAL_ERROR "cmocka not found: install the Debian package libcmocka-dev"
                          " (or configure with -DMXD_TESTS=OFF)")
    endif()
  endif()
endif()

find_package(Threads REQUIRED)
