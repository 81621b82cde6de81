#!/bin/sh
# Rebuilds the SPCR test tables from their sources with iasl (Debian's
# acpica-tools), an encoder independent of proofboot's parser.
set -e
cd "$(dirname "$0")"
for src in *.asl; do
	iasl -p "${src%.asl}" "$src" >/dev/null
	mv "${src%.asl}.aml" "${src%.asl}.bin"
done
