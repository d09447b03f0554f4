// A SCRAM-SHA-256/512 client (RFC 5802 / 7677) for sarama, which asks the application for one.
package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"
	"strings"
)

type scramClient struct {
	hash        string
	user, pass  string
	nonce       string
	clientFirst string
	serverSig   []byte
	step        int
	done        bool
}

func (c *scramClient) newHash() func() hash.Hash {
	if c.hash == "sha512" {
		return sha512.New
	}
	return sha256.New
}

func (c *scramClient) hmac(key, data []byte) []byte {
	m := hmac.New(c.newHash(), key)
	m.Write(data)
	return m.Sum(nil)
}

// pbkdf2 with HMAC, RFC 8018 §5.2; one block suffices since the key length is the hash length.
func (c *scramClient) salted(salt []byte, iterations int) []byte {
	u := c.hmac([]byte(c.pass), append(append([]byte{}, salt...), 0, 0, 0, 1))
	out := append([]byte{}, u...)
	for i := 1; i < iterations; i++ {
		u = c.hmac([]byte(c.pass), u)
		for j := range out {
			out[j] ^= u[j]
		}
	}
	return out
}

func escapeName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

func (c *scramClient) Begin(user, pass, authzID string) error {
	c.user, c.pass = user, pass
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	c.nonce = base64.RawStdEncoding.EncodeToString(b)
	c.clientFirst = "n=" + escapeName(user) + ",r=" + c.nonce
	return nil
}

func (c *scramClient) Step(challenge string) (string, error) {
	c.step++
	switch c.step {
	case 1:
		return "n,," + c.clientFirst, nil
	case 2:
		attrs := map[string]string{}
		for _, p := range strings.Split(challenge, ",") {
			if len(p) > 2 && p[1] == '=' {
				attrs[p[:1]] = p[2:]
			}
		}
		if !strings.HasPrefix(attrs["r"], c.nonce) {
			return "", errors.New("server nonce does not extend ours")
		}
		salt, err := base64.StdEncoding.DecodeString(attrs["s"])
		if err != nil {
			return "", err
		}
		iterations, err := strconv.Atoi(attrs["i"])
		if err != nil {
			return "", err
		}
		salted := c.salted(salt, iterations)
		clientKey := c.hmac(salted, []byte("Client Key"))
		h := c.newHash()()
		h.Write(clientKey)
		storedKey := h.Sum(nil)
		withoutProof := "c=biws,r=" + attrs["r"]
		authMessage := c.clientFirst + "," + challenge + "," + withoutProof
		sig := c.hmac(storedKey, []byte(authMessage))
		proof := make([]byte, len(clientKey))
		for i := range proof {
			proof[i] = clientKey[i] ^ sig[i]
		}
		c.serverSig = c.hmac(c.hmac(salted, []byte("Server Key")), []byte(authMessage))
		return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
	default:
		c.done = true
		if !strings.HasPrefix(challenge, "v=") || challenge[2:] != base64.StdEncoding.EncodeToString(c.serverSig) {
			return "", errors.New("server signature does not verify")
		}
		return "", nil
	}
}

func (c *scramClient) Done() bool { return c.done }
