# backupdrill_add_check(<name> SOURCES <files>... [SAMPLE <sample.toml>]
#                       [LIBRARIES <targets>...] [OUTPUT_DIRECTORY <dir>])
#
# Builds the check plugin <name>.so (no "lib" prefix: the exporter finds the
# plugin of `plugin = "<name>"` as <plugin_dir>/<name>.so). Symbols are hidden
# and a version script exports only backupdrill_check_entry, so two plugins
# (or a plugin and the exporter) never bind to each other's copies of a
# library they both link. SAMPLE is embedded as the C string
# BACKUPDRILL_SAMPLE_CONFIG via the generated header "<name>_sample.h", so the
# sample --sample-config prints is the file the README shows. The default
# output folder is ${CMAKE_BINARY_DIR}/checks, where the exporter of the build
# tree looks for plugins.
set(BACKUPDRILL_PLUGIN_SDK_DIR ${CMAKE_CURRENT_LIST_DIR}/.. CACHE INTERNAL "plugins/ of backupdrill")
# The SDK headers: plugins/include in the source tree; an installed
# backupdrillConfig.cmake (find_package(backupdrill)) sets it to
# <prefix>/include before including this file. The version script sits next
# to this file in both layouts.
if(NOT DEFINED BACKUPDRILL_PLUGIN_INCLUDE_DIR)
  set(BACKUPDRILL_PLUGIN_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/../include
      CACHE INTERNAL "the backupdrill plugin SDK headers")
endif()
set(BACKUPDRILL_PLUGIN_MAP ${CMAKE_CURRENT_LIST_DIR}/plugin.map
    CACHE INTERNAL "the version script of check plugins")

function(backupdrill_add_check name)
  cmake_parse_arguments(ARG "" "SAMPLE;OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "backupdrill_add_check(${name}): SOURCES is required")
  endif()
  if(NOT ARG_OUTPUT_DIRECTORY)
    set(ARG_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/checks)
  endif()
  set(target backupdrill_check_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/${target}_gen)
  set(sample_text "")
  if(ARG_SAMPLE)
    get_filename_component(sample ${ARG_SAMPLE} ABSOLUTE)
    file(READ ${sample} sample_text)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${sample})
  endif()
  # A C string literal (valid in C and C++), one source line per line.
  string(REPLACE "\\" "\\\\" sample_text "${sample_text}")
  string(REPLACE "\"" "\\\"" sample_text "${sample_text}")
  string(REPLACE "\n" "\\n\" \\\n  \"" sample_text "${sample_text}")
  file(CONFIGURE OUTPUT ${gen}/${name}_sample.h
       CONTENT "/* Generated from ${ARG_SAMPLE} by backupdrill_add_check; do not edit. */\n#define BACKUPDRILL_SAMPLE_CONFIG \\\n  \"@sample_text@\"\n"
       @ONLY)
  target_include_directories(${target} PRIVATE ${BACKUPDRILL_PLUGIN_INCLUDE_DIR} ${gen})
  target_link_libraries(${target} PRIVATE ${ARG_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  target_link_options(${target} PRIVATE
    -Wl,--version-script=${BACKUPDRILL_PLUGIN_MAP}
    -Wl,--exclude-libs,ALL -Wl,--no-undefined)
endfunction()
