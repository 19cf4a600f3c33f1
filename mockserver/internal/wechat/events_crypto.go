package wechat

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Message-push crypto, as the platform documents it:
// https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
// and https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md
// (the same scheme as the WXBizMsgCrypt samples and silenceper/wechat's
// util/crypto.go).

// pushSignature is signature (over token, timestamp, nonce) and
// msg_signature (the same plus Encrypt): the hex SHA-1 of the parts sorted
// as strings and concatenated.
func pushSignature(parts ...string) string {
	p := append([]string(nil), parts...)
	sort.Strings(p)
	sum := sha1.Sum([]byte(strings.Join(p, "")))
	return hex.EncodeToString(sum[:])
}

// aesKeyLen is the length of an EncodingAESKey: 43 base64 characters that,
// with a "=" appended, decode to the 32-byte AES-256 key.
const aesKeyLen = 43

// pushAESKey decodes an EncodingAESKey.
func pushAESKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != aesKeyLen {
		return nil, fmt.Errorf("encoding_aes_key must be %d characters, got %d", aesKeyLen, len(encodingAESKey))
	}
	for _, r := range encodingAESKey {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return nil, errors.New("encoding_aes_key must be letters and digits only (the console generates 43 of them)")
		}
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("encoding_aes_key does not decode to a 32-byte key")
	}
	return key, nil
}

// pushBlock is the PKCS#7 block the platform pads to: 32, not AES's 16.
const pushBlock = 32

// encryptPush is Encrypt: base64(AES-256-CBC(key, IV = key[:16],
// random(16) ‖ uint32_be(len(msg)) ‖ msg ‖ appid ‖ PKCS#7 padding to 32)).
func encryptPush(key, random, msg []byte, appID string) (string, error) {
	if len(key) != 32 {
		return "", errors.New("the AES key must be 32 bytes")
	}
	if len(random) != 16 {
		return "", errors.New("the random prefix must be 16 bytes")
	}
	n := 16 + 4 + len(msg) + len(appID)
	pad := pushBlock - n%pushBlock // 1..32: a whole block when aligned
	plain := make([]byte, n+pad)
	copy(plain, random)
	binary.BigEndian.PutUint32(plain[16:20], uint32(len(msg)))
	copy(plain[20:], msg)
	copy(plain[20+len(msg):], appID)
	for i := n; i < len(plain); i++ {
		plain[i] = byte(pad)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(plain, plain)
	return base64.StdEncoding.EncodeToString(plain), nil
}

// decryptPush reverses encryptPush: the message and the app id it names.
// The mock sends, it does not receive; tests read what it sent with it.
func decryptPush(key []byte, encrypted string) (msg []byte, appID string, err error) {
	data, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, "", fmt.Errorf("Encrypt is not base64: %w", err)
	}
	if len(key) != 32 {
		return nil, "", errors.New("the AES key must be 32 bytes")
	}
	if len(data) < pushBlock || len(data)%pushBlock != 0 {
		return nil, "", fmt.Errorf("ciphertext of %d bytes is not whole %d-byte blocks", len(data), pushBlock)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", err
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, key[:16]).CryptBlocks(plain, data)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > pushBlock {
		return nil, "", errors.New("bad padding")
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, "", errors.New("bad padding")
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, "", errors.New("plaintext too short")
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, "", errors.New("message length beyond the plaintext")
	}
	return plain[20 : 20+n], string(plain[20+n:]), nil
}
