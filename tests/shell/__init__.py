"""Shell tests: a real InteractiveShell with the extension, on the emulator."""
