import ctypes
keep = []
def grow(n):
    for i in range(n):
        keep.append(bytearray(1000 + i))
snap = ctypes.CDLL(None).heapdiff_snapshot
grow(10)
snap(b"before")
grow(50)
snap(b"after")
