#!/bin/sh
# Placeholder: the real demo script is being written separately.
echo "demo: not yet"
exit 1
