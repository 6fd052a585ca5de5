B
bn1.weightJ '>9Ýç™¸8à§¸zÀ1¹ACk¸ÆøA¸ÉCx8ò´˜¸