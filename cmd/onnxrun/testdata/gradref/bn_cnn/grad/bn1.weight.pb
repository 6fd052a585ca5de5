B
bn1.weightJ .Â¼ØÈÌ½^x§:Ìç¬¼ºR¾ÈA<8†¼sWâ¼