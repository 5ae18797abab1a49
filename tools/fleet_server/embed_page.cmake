# Writes OUTPUT, a C++ file defining etcdisc::cli::kFleetPage with the text of
# INPUT (the fleet page), so that the binary serves it with no file around.
file(READ "${INPUT}" page)
set(delimiter "etcdisc_page")
string(FIND "${page}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string's end )${delimiter}\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from tools/fleet_server/page.html; edit that.\n"
  "#include \"tools/fleet_server/fleet_server.h\"\n"
  "namespace etcdisc::cli {\n"
  "const char kFleetPage[] = R\"${delimiter}(${page})${delimiter}\";\n"
  "}  // namespace etcdisc::cli\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different
  "${OUTPUT}.tmp" "${OUTPUT}")
