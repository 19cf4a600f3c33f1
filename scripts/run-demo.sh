#!/usr/bin/env bash
# Starts the mock with the demo seed (make run) and prints what to try.
set -euo pipefail
addr="${1:-127.0.0.1:9100}"
url="http://$addr"
cat <<MSG

  minipush mock — WeChat, with the demo seed
  ------------------------------------------
  Mock URL (use it instead of https://api.weixin.qq.com):  $url
  Demo app: wxdemo0000000001 / secret demo-secret; users o_demo_alice_000000000000000 (100 grants),
  o_demo_bob_00000000000000000 (1 grant), o_demo_carol_000000000000000 (long-term reminder grant).

  1. Get a token:
     TOKEN=\$(curl -s '$url/cgi-bin/token?grant_type=client_credential&appid=wxdemo0000000001&secret=demo-secret' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

  2. Send a subscribe message:
     curl -s -X POST "$url/cgi-bin/message/subscribe/send?access_token=\$TOKEN" -d '{"touser":"o_demo_alice_000000000000000","template_id":"demo-order-shipped","page":"pages/order/detail?id=42","data":{"thing1":{"value":"Phone case"},"character_string2":{"value":"SF1234567890"},"date3":{"value":"2026-11-25"},"phrase4":{"value":"已发货"}}}'

  3. Read it back from the inbox:
     curl -s '$url/_mock/messages?openid=o_demo_alice_000000000000000'

  Control API: $url/_mock/…  (see README.md).  Ctrl-C stops the mock.

MSG
exec ./bin/mockserver -demo -addr "$addr"
