B
bn1.weightJ ac=ãú‚<E<eĞ;ƒ¦<µç<Ôtã½?Œ=½