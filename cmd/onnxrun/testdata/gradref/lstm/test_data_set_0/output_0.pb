BoutputJ(hM>`S=t£ø=}gH¾p%Ï;L
>ˆÄ¸<›kª=È.c¾bÅP½