Subject: x

hi
