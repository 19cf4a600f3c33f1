package alipay

// The mock certification authority's RSA key (R1 and its legacy twin R2
// sign with it). FOR LOCAL DEVELOPMENT ONLY: it is public, like the demo
// keys, so that every mock issues the same certificates for the same app
// and key (a demo or a seed file can ship them). Generated once with
// `openssl genrsa -traditional 2048`.
const mockCAKeyPEM = `
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAoW2IV1qJcZvvG0caQdw7DSqsw33G2VuhP5+jIPVQ8k9s7+Le
q653ijnSX2GnHqZfzrWNSY+MSNo/J73l2g/7HMq72zg4hUIzAD7lX6L/5LlyoOcw
L5lMECQ1cE1fTyBQuSJlU28slUgvpLTDByXLkn5U3DOi+yco2xrScKPa4RMW1nxh
2LmjvR19qqJpux4MR04HfgZXPCgLmeKsuTzYvTtriI5EWqn0lBiN/m5coDKT3UBH
6iOnpw0f833Ya1sKZao4/+tRV+DNkpwgFFSRPg6rhyn+VM/CoxoyJpzaFf+IqD9s
7bs+baaedw/iKjda6es/BPzkjw69zau1ihRGPQIDAQABAoIBAAD9Dkn3NrM8JbS6
nPvZjkuAmHrCkaLaKlw/aP+d/rE2syfI+aBcKTyAwJ1f2COOB9yOxBZrY5D0kBk5
MhNj+ko04+NA49kZGpT2XGecMQ+VaWmZCt8uaY/VQTyYJtnUFL8uZifJ+olDj2Qa
Aaa5zbjRDENnn+A4+xuMAmQnElpaEwLmXHR1BC1p+fETITvRnYD56Tj7HhvR+xxU
05piuZz09FI0eF1huzekmrtQPDThyPoRd+0yMly67uonmXElN3ehHsfPbK2pk7+I
dh312cfl4kraaFc5jsRwRvja9IOrltVMbyLgMYH3+rRbSQGobK3lVbfOZsCyItda
oDqWyDECgYEA0ntUSRviACj+hHq74Ro+k3y2SWivjrMVeu0Bpx8Ag10V8yPfWukR
0XF/JmHYPzdxoji3QORGT53eZfdz7fW2SDmMCFf1x/3eU3Ke4tt8ZwgjKvfebpho
pUX+BS/mz5d5WCAwDUg8vWFgs+LvECamMR31U6Yl2ZJTQi6210vUxTECgYEAxFZ8
hPhft5YRRuOPVi5NStH9u8nsQeuG0GnsNvt9pExfjg3TAMfiFle+rvlzgx3z1VAQ
byM6TC/sLGdUG9S5nm3nv2QAfpYyuoQF2m8AP4DpY6uKxS6qLFpOG5UICaEOZ4tt
Nzx81y8vq9/P83yvpTC+nWtZpyu/GkgJ2pXYvs0CgYAc1l7W4WYWZYdxeStSjPjz
1gtXhWtAHtMbk2s9jWbRmKhQNqL8XqBdVLJ5/L/W8W61LhYVYvErKVL2H3AXsyl1
PcUsw3heHS8fub2BEVc6+odu9KTZ/DGiKzPBXC3AVV1/sHFE8Je5zqSkILxmNxVf
913MRyA6bezQTXwphS8ykQKBgBkpeFXWOvYdPmOWYFVMI8218c2ySBv+ok1tdb9q
JaT7wLdE4EjWVQxF/IMSJxKjsQ8ibqi/nAYNkjfymh3i+lLqhOvLViDjAOdUaief
WCnLTJ3gay1wGJEMlbwFMn2BbYYpoTqV/u3Y90QQr+blkOEbySIFkvzQp3Inz1N7
Jsb1AoGBAJQ2P0RVss5B74Z7CPduJmBpNsgr9C2xBge18PVaYDr8u2hth8WCjo3G
WkdhN1Lg5lGuN926p0r5l32JNhqhi8CbP1cj1tWscQDePHQv9U0Nw6bAj6QR8jTH
EKwdZ714Tf65zjMTR4ZCCXeOdPZ3D0tFZtL9Es8wE+0GUEp/cSBD
-----END RSA PRIVATE KEY-----
`
