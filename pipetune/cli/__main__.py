from pipetune.cli import main

main()
