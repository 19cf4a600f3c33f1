#!/usr/bin/env bash
# make run: starts the mock (demo seed) and the sender wired to it, prints
# what to try, and stops both on Ctrl-C.
set -euo pipefail
mock_addr="${MOCK_ADDR:-127.0.0.1:9100}"
sender_addr="${SENDER_ADDR:-127.0.0.1:9200}"
mock="http://$mock_addr"
api="http://$sender_addr"
mkdir -p data
./bin/mockserver -demo -addr "$mock_addr" 2> data/mockserver.log &
mock_pid=$!
MINIPUSH_LISTEN="$sender_addr" ./bin/sender -config configs/demo.yaml 2> data/sender.log &
sender_pid=$!
trap 'kill $mock_pid $sender_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
sleep 1
for pid in $mock_pid $sender_pid; do
  kill -0 "$pid" 2>/dev/null || { echo "a process failed to start:"; cat data/mockserver.log data/sender.log; exit 1; }
done
cat <<MSG

  minipush — the mock platform and the sender, on embedded defaults
  ------------------------------------------------------------------
  Mock (instead of https://api.weixin.qq.com …):  $mock      log: data/mockserver.log
  Mock web UI (phone view, subscriptions, journal, control):  $mock/_ui/
  Sender API (key: demo-key):                     $api      log: data/sender.log, database: data/minipush.db
  Demo apps (configs/demo.yaml ↔ the mock's demo seed): shop-wechat, shop-alipay, shop-douyin, shop-kuaishou,
  shop-baidu — one per platform (README: "The demo seed"). WeChat users: o_demo_alice_000000000000000
  (100 grants), o_demo_bob_00000000000000000 (1 grant), o_demo_carol_000000000000000 (long-term grant).

  1. Send a message through the sender:
     curl -s -X POST $api/v1/messages -H 'Authorization: Bearer demo-key' -H 'Content-Type: application/json' -d '{"app":"shop-wechat","to":"o_demo_alice_000000000000000","template_id":"demo-order-shipped","page":"pages/order/detail?id=42","data":{"thing1":"Phone case","character_string2":"SF1234567890","date3":"2026-11-25","phrase4":"已发货"}}'

  2. Read its status and attempts (use the id from step 1):
     curl -s $api/v1/messages/<id> -H 'Authorization: Bearer demo-key'

  3. See it on Alice's phone: $mock/_ui/phone?platform=wechat&openid=o_demo_alice_000000000000000
     or in the mock's inbox:
     curl -s '$mock/_mock/messages?openid=o_demo_alice_000000000000000'

  Alipay, through the sender:
     curl -s -X POST $api/v1/messages -H 'Authorization: Bearer demo-key' -H 'Content-Type: application/json' -d '{"app":"shop-alipay","to":"2088000000000001","template_id":"demo-alipay-order-status","data":{"keyword1":"A123","keyword2":"已发货","keyword3":"2026-11-25 12:00"}}'

  Also: $api/metrics · $mock/_mock/requests (every platform call) · Ctrl-C stops both.

MSG
wait $mock_pid $sender_pid
