package api

// SendOutcome exposes sendOutcome to the external tests' table.
var SendOutcome = sendOutcome
