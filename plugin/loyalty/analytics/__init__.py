"""What the program's figures say: the dashboard's totals and series (`dashboard`)."""
