// The streaming decoder of content codings (zstd, gzip, br) for httpc.
#pragma once
