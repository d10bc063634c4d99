# Shared build helpers: warnings, sanitizers, pkg-config imports and the test helper.
#
# Every component uses raas_pkg() for its dependencies and raas_add_test() for its tests, so
# that flags, labels and the "77 means skipped" convention are the same everywhere.
include(FindPkgConfig)

set(RAAS_WARNINGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wno-unused-parameter)
if(RAAS_WERROR)
  list(APPEND RAAS_WARNINGS -Werror)
endif()
add_compile_options(${RAAS_WARNINGS})
add_compile_definitions(_GNU_SOURCE)

if(RAAS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Fuzz builds instrument every library for coverage; only fuzz targets link libFuzzer's main.
if(RAAS_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# raas_pkg(NAME module...) imports pkg-config modules as the target PkgConfig::NAME.
macro(raas_pkg name)
  pkg_check_modules(${name} REQUIRED IMPORTED_TARGET ${ARGN})
endmacro()

# Source root and shared data folder, given to tests as compile definitions.
get_filename_component(RAAS_SHARED_DATA ${CMAKE_SOURCE_DIR}/../shared/data ABSOLUTE)

# raas_add_test(NAME name SOURCES ... [LIBS ...] [LABELS ...] [TIMEOUT s] [ARGS ...])
# Builds a test binary into build/bin and registers it with ctest. Exit code 77 means
# skipped (the test prints why). Default label: unit.
function(raas_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} raas_testlib)
  target_compile_definitions(${T_NAME} PRIVATE
    RAAS_SOURCE_DIR="${CMAKE_SOURCE_DIR}" RAAS_SHARED_DATA="${RAAS_SHARED_DATA}"
    RAAS_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" SKIP_RETURN_CODE 77
    TIMEOUT ${T_TIMEOUT})
endfunction()

# raas_add_script_test(NAME name COMMAND ... [LABELS ...] [TIMEOUT s])
# Registers a shell-script test (integration tests that drive the real daemons).
function(raas_add_script_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS integration)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" SKIP_RETURN_CODE 77
    TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "RAAS_BIN=${CMAKE_BINARY_DIR}/bin;RAAS_SOURCE_DIR=${CMAKE_SOURCE_DIR};RAAS_SHARED_DATA=${RAAS_SHARED_DATA}")
endfunction()

# raas_add_fuzz(NAME name SOURCES ... LIBS ... CORPUS dir)
# With RAAS_FUZZ (clang): a libFuzzer binary. Always: a replay test (label fuzz) that runs the
# same entry point over every file of the seed corpus, so the corpus is checked under gcc too.
function(raas_add_fuzz)
  cmake_parse_arguments(F "" "NAME;CORPUS" "SOURCES;LIBS" ${ARGN})
  add_executable(${F_NAME}-replay ${F_SOURCES} ${CMAKE_SOURCE_DIR}/common/tests/fuzz_replay.c)
  target_link_libraries(${F_NAME}-replay PRIVATE ${F_LIBS})
  # Shared fuzz helpers (common/fuzz/wire_build.h: messages built from the input).
  target_include_directories(${F_NAME}-replay PRIVATE ${CMAKE_SOURCE_DIR}/common/fuzz)
  add_test(NAME ${F_NAME}-replay COMMAND ${F_NAME}-replay ${F_CORPUS})
  set_tests_properties(${F_NAME}-replay PROPERTIES LABELS fuzz TIMEOUT 300)
  if(RAAS_FUZZ)
    add_executable(${F_NAME} ${F_SOURCES})
    target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${F_NAME} PRIVATE ${F_LIBS})
    target_include_directories(${F_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/common/fuzz)
  endif()
endfunction()

# raas_internals(DIR target...): the targets see a component's private headers in DIR (its
# src/): its own program, unit tests and fuzz targets (and a fuzz target's -replay twin),
# never another component. A library keeps DIR PRIVATE, so linking it exports only include/.
function(raas_internals dir)
  foreach(t ${ARGN})
    foreach(v ${t} ${t}-replay)
      if(TARGET ${v})
        target_include_directories(${v} PRIVATE ${dir})
      endif()
    endforeach()
  endforeach()
endfunction()
