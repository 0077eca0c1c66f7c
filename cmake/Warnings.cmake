# Warnings are always on; MXD_WERROR (set by .ci/run) makes them fatal.
set(MXD_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wformat-overflow=2
  -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
  -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef -Wvla
  -Wnull-dereference -Wimplicit-fallthrough -Wmissing-declarations
  -Wno-unused-parameter)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  list(APPEND MXD_WARNINGS -Wlogical-op -Wduplicated-cond -Wjump-misses-init)
endif()
if(MXD_WERROR)
  list(APPEND MXD_WARNINGS -Werror)
endif()

if(MXD_SANITIZE)
  add_compile_options(-fsanitize=${MXD_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${MXD_SANITIZE})
endif()

# Project code gets the warnings; imported headers are system headers.
function(mxd_warnings target)
  target_compile_options(${target} PRIVATE ${MXD_WARNINGS})
endfunction()
