# cvb_discover_tests(<target> LABELS <label>... [TIMEOUT <s>] [DISCOVERY_TIMEOUT <s>])
# gtest_discover_tests with several CTest labels: passing "a;b" through its PROPERTIES flattens
# the list and keeps only the first label, so the labels are applied by a file CTest includes
# after discovery.
function(cvb_discover_tests target)
  cmake_parse_arguments(ARG "" "DISCOVERY_TIMEOUT;TIMEOUT" "LABELS" ${ARGN})
  if(NOT ARG_DISCOVERY_TIMEOUT)
    set(ARG_DISCOVERY_TIMEOUT 30)
  endif()
  gtest_discover_tests(${target} TEST_LIST ${target}_tests
                       DISCOVERY_TIMEOUT ${ARG_DISCOVERY_TIMEOUT})
  set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
  set(extra "")
  if(ARG_TIMEOUT)
    set(extra " TIMEOUT ${ARG_TIMEOUT}")
  endif()
  file(WRITE ${labels_file}
    "if(${target}_tests)\n"
    "  set_tests_properties(\${${target}_tests} PROPERTIES LABELS \"${ARG_LABELS}\"${extra})\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels_file})
endfunction()
