// Command hostile serves the Forage sandbox with every order's payments
// answered by a misbehaving provider: the first payment's metadata holds a
// million keys (a 13 MB answer, under the console's 16 MB body cap). It is
// how the console's memory with such an answer is measured (see
// TestMillionMetadataKeysStayBounded in ui/bounds_test.go for the same
// answer in a test):
//
//	go run ./ui/testdata/hostile -listen 127.0.0.1:7201 &
//	go build -o /tmp/paydesk . && FORAGE_BASE_URL=http://127.0.0.1:7201 \
//	  FORAGE_CLIENT_ID=demo-client FORAGE_CLIENT_SECRET=demo-secret \
//	  FORAGE_MERCHANT_ACCOUNT=9000055 /usr/bin/time -v /tmp/paydesk
//
// then open an order (enter), its payment (enter), press e, and quit;
// /usr/bin/time prints "Maximum resident set size". It lives under testdata
// so that go build ./... and go test ./... leave it alone.
package main

import (
	"flag"
	"log"
	"net/http"
	"regexp"

	foragesandbox "paydesk/api/sandbox/forage"
	"paydesk/ui/testdata/hostile/hugemeta"
)

var paymentsPath = regexp.MustCompile(`^/api/orders/[^/]+/payments/`)

func main() {
	listen := flag.String("listen", "127.0.0.1:7201", "address to serve on")
	keys := flag.Int("keys", 1_000_000, "metadata keys in the first payment of every order")
	flag.Parse()

	huge := hugemeta.Keys(*keys)

	sb := foragesandbox.New(foragesandbox.Options{Orders: 60, Seed: 7})
	h := hugemeta.OnPayments(sb, paymentsPath.MatchString, huge)
	log.Printf("hostile Forage on http://%s (%d metadata keys, %d bytes each answer)", *listen, *keys, len(huge))
	log.Fatal(http.ListenAndServe(*listen, h))
}
