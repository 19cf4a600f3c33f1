package alipay

// Fixed demo RSA-2048 key pairs for the demo app (DemoApp), so that `make run`
// and local scripts can sign requests and verify answers with stable keys.
//
// FOR LOCAL DEVELOPMENT ONLY. These private keys are public (they are in this
// source file): never configure them anywhere real. Generated once with
// `openssl genrsa -traditional 2048` and pasted here.

// DemoAppPrivateKeyPEM is the demo app's private key (PKCS#1): requests to
// the demo app are signed with it.
const DemoAppPrivateKeyPEM = `
-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEA3JLZv/HPW/nEwCjl4Mua2aslsdPtCcuCNLRsnnpW4kfAPw8k
kk1pJcbBtnhEJszm7fQRYUhatKpy/KUJiP+sTfju+BEcY9tJ5fb4aHsFvVhE0R/J
eoWQ2o/zPnlADZlPhjevCvv/ApsoTvU1Yd6Rx900cunao7ZEyGGvvCx1Z5votKdu
LZc2pzRx7qC0qPftLweO5BQnjTOkXWojj5VMMoIryr91ExFfvRSbc6eRvzRbsR3O
/ewSXJdwYzBU1W/ADZqmkyf37fH0rTUdsv/nrnPeJ2VHrK61RxNgg3jXfjCHGYoo
VuiGk9TUw+EB5w/6JqT5111gnA51ndY5UDbwrwIDAQABAoIBABEGarVEkldMk5Gr
dnbf8E9dxPaRX4nygdXUmU+wLLWhiSa04gNC41tNmJUfek8uYKK8RH0oSwwH3gE/
Mdm3tlJ8ZOGT3IeenPkZk3npCPvg7Mrhc7k3xwL/umw3iqiiDT/UW3fzFG9cj4Ns
rNalicYN/mbiQwSA5JU86QYSvmslOlqvRyUqxVXyVzvEd/H3gaQiqQX0PiKYpMoQ
DvZJ+DrfqdIKVPFAzZrMkPS1PmQSykZfrJ6ZYS7Yq6Admssz307xkamfAovfLbF2
h9dFK71OWnDHO3lbBKXQpFY3qwMF9J1/FqKAWI+cMVAGrSsjZm+j3V1vOVnuAi3K
+N1AmQUCgYEA+VaJW7iIQ4hq5i4npoIrP6JSXm6rxALRt3at7ToHnWOJRO4BeHz7
Q1ob9IOjAyOH/dGFTnqfZyYcMTle3MzFlBJfrKt3dtBnkdMJJicoqKPKl8pGcKDu
/bQL8mluItxMYn+5+jXeaZydyuK+hJfiqD4Y5GDI0La7cF7ZpeRROHMCgYEA4neR
CVnCeySsls3frWR+NHaNM3bJOPZQpgoxmJJjOMx/dVamGcHmfv2rxAxsjR/aGT2n
LbrXeNI8EHATXWyBdQsNMivf91Dr530EP+z07WMRijjm2tzChpGsWn+PnZibNcJj
8tZeWMlTe/BEXJNKsa6JDA9v216jdMu+rKnX49UCgYEA57gei1khefGLt0NpofsT
Cl5mQlCD3PPpxqDK3s6xSPm6Fo9CWqF8OYnCtSipFD+vIJnZU6fuAESQqsZwfK7p
Z8TzmVr4+TiRKBqCRCzcQm2F2C8p634E3U64U57bthYZ/uhJBFmPy4K7ulOjT0KA
aG7dX1D7D8ziwXnEt8FKIjUCgYBPiyWjPibEMAZ61YbqFTEK5lUELYXR/xomp8/x
wgEd0x41raCbzXJTSnBJZP+/td9aHECbHFRQeK9mKqdymgkCfkY9SBHbgU3KuiuC
9Iy20KQ5g3D6kK22rHX4N3PPK+ngQQ3wHoF2+AfdsW+hgI6syBwU41srlxsci+/G
H8XXnQKBgQCfy7BTrkxzfvIC823gl+OHB2iOyHeydTsNAmA8UHosCNloM0ZBcplc
SbpqlwEv/mtx4JpYRh/d81ar4NMF095bxQ+VTkscx3jDQv/CLAjuGzjE2xWf4K+J
Y+3iR/IeVDyOTleep4zj147UPNEcM9AW8bVHnK/R4zSX9g1EMN0GEQ==
-----END RSA PRIVATE KEY-----
`

// DemoAppPublicKeyPEM is the demo app's public key (PKIX), registered on the
// mock as the app public key.
const DemoAppPublicKeyPEM = `
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3JLZv/HPW/nEwCjl4Mua
2aslsdPtCcuCNLRsnnpW4kfAPw8kkk1pJcbBtnhEJszm7fQRYUhatKpy/KUJiP+s
Tfju+BEcY9tJ5fb4aHsFvVhE0R/JeoWQ2o/zPnlADZlPhjevCvv/ApsoTvU1Yd6R
x900cunao7ZEyGGvvCx1Z5votKduLZc2pzRx7qC0qPftLweO5BQnjTOkXWojj5VM
MoIryr91ExFfvRSbc6eRvzRbsR3O/ewSXJdwYzBU1W/ADZqmkyf37fH0rTUdsv/n
rnPeJ2VHrK61RxNgg3jXfjCHGYooVuiGk9TUw+EB5w/6JqT5111gnA51ndY5UDbw
rwIDAQAB
-----END PUBLIC KEY-----
`

// DemoAlipayPrivateKeyPEM is the platform key the mock signs the demo app's
// answers with (PKCS#1).
const DemoAlipayPrivateKeyPEM = `
-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEApG+vNh2tybl5szUdBVcXLZFTLB2ht92C44NQbGtCbvHl+wUW
xauvCuH1yGbYyeVJo7mcowmstaB+kNQAa+/RLFLa4C/YyYwxSYZ3SD5Yi2PwN+rA
87U8862P3t1y1UbBG6GOZAjUE9NncVc5MtYtl+5IKAQnJ8hl9LQ8e02fDh3GIwN2
pu2+pqwjKbVe4WwbyuBqOSvHk0xLwgcxUzPOkExDdqHAMkpSpHo0pif21yDN6a88
tAssy2zF+14ThZurgtPxHOKX4r/x3WfdB0iCpiRuK6S2Mk5AGXBYcQIgob9K0fWf
MclVd7ZmB8gznd/HbCwk8QiYQN0Epj3CFgCjywIDAQABAoIBADEi3ID3wmgun9Kw
suDXIupvbCKZIit+qi+RHDWhoYLkjtwBK8paoJ5IYjkFno9KEES34LoJWI4XjOp7
JzsZuPAdPCFUutuTJGE7qKYyVyQj83LKF+lbRYDtYrnug3N+xpKapqF2z+Syvczt
Cv8JaCtnvTET+J1XMTw7pX0U90vwl/N0CwgJLohcF5l3XkX2aErCY0O90a8Wyqim
Xy+WxW4w6/08xe5O9thB4kQjcXtKVjvbHSks2VHmWXsilF4rcIGv73Ttcq1Ld/W2
xynrJj4Ndxz4KErHKKML5gSTp8yK1GoiT58Nsm8k0IO33q1uFEroqsfwPPt+okiR
QzBQ50ECgYEA1ztGUaEjkKVZ+QdI7wHH//q7UsnnILl3VhJFWKZJXV2n0tV/QnJU
34t6hiLEUqwxnMSPiypdk4vWDNaL32ZT/IhIvHjUGI0YviJo2tRScjog4Rmg/QlN
2b0yRsqEzUc1mBWuOZfLJD1a1olAWmNeNUSGUsyffC3oxeNWEjE4EIsCgYEAw5VP
3hXLPoPMvlBfda4Ml3YKzY/RIimV+yNwg1ws/HGWSXMrWht6lOtNQi7ySKwQbzCY
v6iYBDVqlh3za4uQ+9XPwtRLXes16jCzsCEI+kFc7iVF3zOBeDiJAt2w+cEHbW1O
feQ52Pq7W7ilD0+bnvc/ku4aDMNvJzWHPKDW4cECgYEAuxBJjaj/wDf2evpZ6WEi
8th49vuEZmzLy4MVwnbETOGZeyUT9ixol+IiG3McLr56YEZ2e/3WVuayo3XVG9VU
KahJj4V00eHQH3DIsWjYP29GJF6iDUqI3zYQ/HYH9mJtskElq+jCJj0tNkkUJXs3
5hQoqs4tz0AXj+aGaEle8QECgYADEuesb98/3kZrf0vgx5l/D+XfkTESPmETD12H
Uv2KAicAhITb566nhIM0VRSNu9aOSM89w+KPvl8seNAIkqr2qkeXokqE8VtpkNZi
IELJ3BkfzQoqFd8lCo5ssxtC8ZuyRpODOwEFvfsP1/kQIoopl20yW/eg17l5fkff
1g9KgQKBgQDMMldmqovKfZ7Lv5B2e9QkIcMlDlyc0uPjRaI95vp4CEiOVD9PAPho
Wsn0wdVyXH+hUaigpCnKocmcdMT6n+N3zf5yjLAlDXWQOC26twBbLJExlcWM5mGM
Lb1X0O0T89CdU4rH6Kf7UHjneXfcPzGq5o1KEYTZX+RqWopgQs4DKg==
-----END RSA PRIVATE KEY-----
`

// DemoAlipayPublicKeyPEM is the "alipay public key" (PKIX) demo clients verify
// answers with.
const DemoAlipayPublicKeyPEM = `
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApG+vNh2tybl5szUdBVcX
LZFTLB2ht92C44NQbGtCbvHl+wUWxauvCuH1yGbYyeVJo7mcowmstaB+kNQAa+/R
LFLa4C/YyYwxSYZ3SD5Yi2PwN+rA87U8862P3t1y1UbBG6GOZAjUE9NncVc5MtYt
l+5IKAQnJ8hl9LQ8e02fDh3GIwN2pu2+pqwjKbVe4WwbyuBqOSvHk0xLwgcxUzPO
kExDdqHAMkpSpHo0pif21yDN6a88tAssy2zF+14ThZurgtPxHOKX4r/x3WfdB0iC
piRuK6S2Mk5AGXBYcQIgob9K0fWfMclVd7ZmB8gznd/HbCwk8QiYQN0Epj3CFgCj
ywIDAQAB
-----END PUBLIC KEY-----
`
