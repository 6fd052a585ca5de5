B
bn2.weightJ ËKÍ¿©èh?«Iu?È?v–wÀµ¼‡¿ÙÚõ¿Ax¶@