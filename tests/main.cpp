#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <xapian.h>

// Xapian's exceptions do not derive from std::exception: show their description on failure.
CATCH_TRANSLATE_EXCEPTION(const Xapian::Error& e) { return e.get_description(); }
