from inbox_tui.entry import main

main()
