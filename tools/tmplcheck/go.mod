module notifyd/tools/tmplcheck

go 1.19
