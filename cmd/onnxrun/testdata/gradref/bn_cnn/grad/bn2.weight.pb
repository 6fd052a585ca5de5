B
bn2.weightJ «ÚÔ?@Æ½?ÎÀ?˜@øU@9aÀìSr¿5-v@