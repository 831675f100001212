#!/bin/sh
# Placeholder: the real bench script is being written separately.
echo "bench: not yet"
exit 1
