# Debian packages (cpack -G DEB, from a build configured with
# -DBUILD_SHARED_LIBS=ON -DCMAKE_INSTALL_PREFIX=/usr; scripts/package.sh does it):
#   libetcdisc<SOVERSION>  the shared library
#   libetcdisc-dev         headers, CMake package, pkg-config file
#   etcdisc                the CLI, its bash completion and man page
#   libetcdisc-grpc<SOVERSION>  etcdisc_grpc: gRPC channels that follow a service
#   libetcdisc-grpc-dev    its header, CMake targets (find_package(etcdisc
#                          COMPONENTS grpc)) and pkg-config file (etcdisc-grpc)
# Library dependencies come from dpkg-shlibdeps; the rest is declared here.
set(CPACK_PACKAGE_NAME etcdisc)
set(CPACK_PACKAGE_VENDOR "etcdisc")
set(CPACK_PACKAGE_CONTACT "etcdisc maintainers <etcdisc@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "service discovery on etcd v3")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL lib dev cli grpc_lib grpc_dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The CLI needs libetcdisc, which is in this build, not in an installed package.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/lib)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_STRIP_FILES ON)

set(_lib_package libetcdisc${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set(_same_version "(= ${PROJECT_VERSION})")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME ${_lib_package})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_LIB_DESCRIPTION "etcdisc: service discovery on etcd v3 (library)")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libetcdisc-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "${_lib_package} ${_same_version}, libabsl-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "etcdisc: service discovery on etcd v3 (headers, CMake and pkg-config files)")

set(CPACK_DEBIAN_CLI_PACKAGE_NAME etcdisc)
set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "${_lib_package} ${_same_version}")
set(CPACK_COMPONENT_CLI_DESCRIPTION
  "etcdisc: service discovery on etcd v3 (command-line tool)")

set(_grpc_lib_package
  libetcdisc-grpc${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set(CPACK_DEBIAN_GRPC_LIB_PACKAGE_NAME ${_grpc_lib_package})
set(CPACK_DEBIAN_GRPC_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_GRPC_LIB_PACKAGE_DEPENDS "${_lib_package} ${_same_version}")
set(CPACK_COMPONENT_GRPC_LIB_DESCRIPTION
  "etcdisc: gRPC channels that follow a service (library)")

set(CPACK_DEBIAN_GRPC_DEV_PACKAGE_NAME libetcdisc-grpc-dev)
set(CPACK_DEBIAN_GRPC_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_GRPC_DEV_PACKAGE_DEPENDS
  "${_grpc_lib_package} ${_same_version}, libetcdisc-dev ${_same_version}, libgrpc++-dev, libprotobuf-dev, protobuf-compiler-grpc")
# gRPC's CMake package checks for its code generator plugins
# (protobuf-compiler-grpc) and links protobuf's target (libprotobuf-dev).
set(CPACK_COMPONENT_GRPC_DEV_DESCRIPTION
  "etcdisc: gRPC channels that follow a service (header, CMake and pkg-config files)")

include(CPack)
