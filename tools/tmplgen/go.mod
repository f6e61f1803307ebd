module notifyd/tmplgen

go 1.19
