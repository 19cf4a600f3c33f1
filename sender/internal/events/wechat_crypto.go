package events

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// WeChat's message-push security, from the platform's pages
// (https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html,
// https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md):
//
//   - signature = hex(sha1(concat(sort(token, timestamp, nonce)))), on every
//     request; msg_signature adds Encrypt to the sorted strings;
//   - key = base64decode(EncodingAESKey + "="), AES-256-CBC with IV =
//     key[:16];
//   - plaintext = random(16) ‖ uint32_be(len(msg)) ‖ msg ‖ appid, PKCS#7
//     padded to 32-byte blocks (1–32 bytes; a whole block when aligned).

// wechatSignature is the SHA-1 signature of parts (sorted as strings).
func wechatSignature(parts ...string) string {
	s := append([]string(nil), parts...)
	sort.Strings(s)
	sum := sha1.Sum([]byte(strings.Join(s, "")))
	return hex.EncodeToString(sum[:])
}

// signatureMatches compares a received hex signature with the expected one
// in constant time (the case of the hex digits does not matter).
func signatureMatches(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// wechatPadBlock is the PKCS#7 block size WeChat pads to (not AES's 16).
const wechatPadBlock = 32

// errUndecryptable wraps every reason Encrypt cannot be opened.
var errUndecryptable = errors.New("the Encrypt field does not decrypt with this app's encoding_aes_key")

// wechatDecrypt opens Encrypt with key: the message and the app id it
// names. It never panics on any input.
func wechatDecrypt(key []byte, encrypt string) (msg []byte, appID string, err error) {
	ct, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, "", fmt.Errorf("%w: not base64", errUndecryptable)
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, "", fmt.Errorf("%w: %d bytes of ciphertext, not whole AES blocks", errUndecryptable, len(ct))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", errUndecryptable, err)
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > wechatPadBlock || pad > len(pt) {
		return nil, "", fmt.Errorf("%w: bad padding", errUndecryptable)
	}
	for _, b := range pt[len(pt)-pad:] {
		if int(b) != pad {
			return nil, "", fmt.Errorf("%w: bad padding", errUndecryptable)
		}
	}
	pt = pt[:len(pt)-pad]
	if len(pt) < 20 {
		return nil, "", fmt.Errorf("%w: %d bytes, shorter than its header", errUndecryptable, len(pt))
	}
	n := binary.BigEndian.Uint32(pt[16:20])
	if uint64(n) > uint64(len(pt)-20) {
		return nil, "", fmt.Errorf("%w: a %d-byte message in %d bytes", errUndecryptable, n, len(pt)-20)
	}
	return pt[20 : 20+n], string(pt[20+n:]), nil
}
