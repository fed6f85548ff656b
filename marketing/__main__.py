from marketing.cli import main

main()
