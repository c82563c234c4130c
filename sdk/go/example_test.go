package casexchange_test

import (
	"context"
	"fmt"
	"log"
	"os"

	casexchange "github.com/casexchange/server/sdk/go"
)

// The README's example: list your firm's sent cases with a Public API key. It has no Output
// comment, so go test compiles it without running it (it needs a live server).
func Example_listSentCases() {
	c, _ := casexchange.NewClientWithResponses("http://127.0.0.1:8080", casexchange.WithAPIKey(os.Getenv("CX_API_KEY")))
	res, err := c.ListSentCasesWithResponse(context.Background(), &casexchange.ListSentCasesParams{})
	if err != nil {
		log.Fatal(err)
	}
	if res.JSON200 == nil {
		log.Fatalf("%s: %s", res.Status(), res.Body)
	}
	for _, sc := range res.JSON200.Data {
		fmt.Println(sc.Id, sc.Status)
	}
}
