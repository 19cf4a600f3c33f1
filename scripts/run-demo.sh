#!/usr/bin/env bash
# make run: starts the mock (demo seed) and the sender wired to it, prints
# what to try with the addresses really used, and stops both on Ctrl-C.
#   MOCK_ADDR    the mock's listen address (default 127.0.0.1:9100)
#   SENDER_ADDR  the sender's listen address (default 127.0.0.1:9200)
#   BIN          where the binaries are (default bin, as make build leaves them)
#   DATA         the demo's state: database and logs (default data)
# The sender reads configs/demo.yaml; its apps' base_url is replaced by the
# mock's address (MINIPUSH_APP_<NAME>_BASE_URL), so moving the mock moves
# the sender's calls with it. State lives in data/ (make reset removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
mock_addr="${MOCK_ADDR:-127.0.0.1:9100}"
sender_addr="${SENDER_ADDR:-127.0.0.1:9200}"
mock="http://$mock_addr"
api="http://$sender_addr"
bin="${BIN:-bin}"
data="${DATA:-data}"
config=configs/demo.yaml
apps=(shop-wechat shop-alipay shop-douyin shop-kuaishou shop-baidu)

# The demo's ids, as the mock's demo seed has them (README "The demo seed").
wechat_user=o_demo_alice_000000000000000
alipay_user=2088000000000001
douyin_user=_000demo_alice_0000000000000000
kuaishou_user=ks_demo_alice_0000000000000000
baidu_user=bd_demo_alice_000000000000000

for a in "${apps[@]}"; do
  var="MINIPUSH_APP_$(echo "$a" | tr 'a-z-' 'A-Z_')_BASE_URL"
  export "$var=$mock"
done
export MINIPUSH_LISTEN="$sender_addr" MINIPUSH_STORAGE_PATH="$data/minipush.db"

mkdir -p "$data"
"$bin/mockserver" -demo -addr "$mock_addr" 2> "$data/mockserver.log" &
mock_pid=$!
"$bin/sender" -config "$config" 2> "$data/sender.log" &
sender_pid=$!
trap 'kill $mock_pid $sender_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

# Wait until both listen (bash's /dev/tcp: no curl needed); a process that
# exits (a port in use, a bad config) ends the wait with its log.
listening() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }
for _ in $(seq 1 100); do
  if listening "$mock_addr" && listening "$sender_addr"; then break; fi
  for pid in $mock_pid $sender_pid; do
    kill -0 "$pid" 2>/dev/null || { echo "a process failed to start:"; cat "$data/mockserver.log" "$data/sender.log"; exit 1; }
  done
  sleep 0.1
done
listening "$mock_addr" && listening "$sender_addr" || { echo "not listening after 10 s:"; cat "$data/mockserver.log" "$data/sender.log"; exit 1; }
# The WeChat demo app pushes its events to the sender (configs/demo.yaml: the same Token and key).
curl -s -o /dev/null -X PUT "$mock/_mock/apps/push" -H 'Content-Type: application/json' -d '{"platform":"wechat",
  "app_id":"wxdemo0000000001","push":{"url":"'"$api"'/v1/platform-events/shop-wechat","token":"DemoPushToken1",
  "encoding_aes_key":"DemoEncodingAESKey0123456789abcdefghijklmno","format":"json","mode":"safe"}}' ||
  echo "could not give the mock's WeChat app its push settings"

send() { # app, to, template, data JSON, extra JSON fields
  printf "     curl -s -X POST %s/v1/messages -H 'Authorization: Bearer demo-key' -H 'Content-Type: application/json' \\\\\n       -d '{\"app\":\"%s\",\"to\":\"%s\",\"template_id\":\"%s\",\"data\":%s%s}'\n" "$api" "$1" "$2" "$3" "$4" "${5:-}"
}

cat <<MSG

  minipush — the mock platform and the sender, wired together
  ------------------------------------------------------------
  Mock (instead of the platforms' hosts):  $mock      log: $data/mockserver.log
  Mock web UI (phone view, subscriptions, journal, control):  $mock/_ui/
  Sender API (key: demo-key):              $api      log: $data/sender.log, database: $data/minipush.db
  Sender console (queue, messages, dead letters, broadcasts, apps):  $api/console/
     sign in with the demo admin key "demo" (scopes send, read, admin; its value: demo-key)
  Sender config: $config, every app's base_url → $mock
  OpenAPI documents: $api/openapi.json · $mock/openapi.json
  Demo apps (the mock's demo seed): ${apps[*]}

  Send through the sender, one per platform:
   WeChat (Alice, 100 grants):
$(send shop-wechat "$wechat_user" demo-order-shipped '{"thing1":"Phone case","character_string2":"SF1234567890","date3":"2026-11-25","phrase4":"已发货"}' ',"page":"pages/order/detail?id=42"')
   Alipay:
$(send shop-alipay "$alipay_user" demo-alipay-order-status '{"keyword1":"A123","keyword2":"已发货","keyword3":"2026-11-25 12:00"}')
   Douyin:
$(send shop-douyin "$douyin_user" MSG0000000000000000000000000000000000000001 '{"物品名称":"Phone case","快递单号":"SF1234567890","发货时间":"2026年11月25日"}')
   Kuaishou:
$(send shop-kuaishou "$kuaishou_user" ks-demo-order-shipped '{"thing01":"Phone case","thing02":"顺丰速运","date01":"2026年11月25号","amount01":"99.00"}')
   Baidu:
$(send shop-baidu "$baidu_user" de300000000000000000000000000001 '{"keyword1":"Dental check-up","keyword2":"2026-11-25 10:00","subscribe_id":"demo-booking"}')

  Then read a message's status and attempts (the id from the answer):
     curl -s $api/v1/messages/<id> -H 'Authorization: Bearer demo-key'
  See it on Alice's phone: $mock/_ui/phone?platform=wechat&openid=$wechat_user
  or in the mock's inbox:  curl -s '$mock/_mock/messages?openid=$wechat_user'

  A user answers a subscribe popup: the mock pushes it (encrypted) to the sender, which keeps a consent ledger:
     curl -s -X POST $mock/_mock/popups -d '{"platform":"wechat","app_id":"wxdemo0000000001","openid":"o_demo_bob_00000000000000000","accept":["demo-order-shipped"]}'
     curl -s '$api/v1/consents?app=shop-wechat&user=o_demo_bob_00000000000000000' -H 'Authorization: Bearer demo-key'
     (consent: observe in $config; enforce holds back what a user refused — docs/events.md)

  Also: $api/metrics · $mock/_mock/requests (every platform call) · Ctrl-C stops both · make reset clears $data/

MSG
wait $mock_pid $sender_pid
