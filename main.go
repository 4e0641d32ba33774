// Command paydesk is a terminal back-office console for payment support
// agents. main.go is wiring only: flags, subcommands, start the program.
package main

func main() {}
