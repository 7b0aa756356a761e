"""Microsoft Graph (calendar part) + Microsoft identity platform token endpoint
emulator for calsync's tests, demo and benchmarks. Entry point:
tests/emulators/graph_emu.py; control API: tests/emulators/README.md."""
