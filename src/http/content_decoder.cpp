#include "http/content_decoder.hpp"
