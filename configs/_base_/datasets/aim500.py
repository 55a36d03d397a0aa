# AIM-500 test set (github:JizhiziLi/AIM): original/, mask/, trimap/ [, usr/], aim_category_type.json
test_dataset = dict(type='aim500', data_root='data/AIM-500')
