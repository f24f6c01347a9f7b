#include "cli/commands.h"

int main(int argc, char** argv) { return nomoat::cli::run_main(argc, argv); }
