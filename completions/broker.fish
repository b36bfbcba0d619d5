complete --keep-order --exclusive --command broker --arguments "(COMPLETE=fish broker -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
