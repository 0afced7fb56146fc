def main() -> None:
    raise SystemExit("compiler: not implemented yet")
