from inbox_tui.cli import main

main()
