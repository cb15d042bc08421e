// Command generate asks a ConvLLaVA cluster a question about an image, streams the answer to stdout as it is decoded,
// then prints the boxes it locates and why it stopped.
//
//	go run ./cmd/generate --image photo.png --prompt "What is in the picture?" [--target 127.0.0.1:50051]
//	    [--token T | CONVLLAVA_TOKEN=T] [--tls-ca ca.pem] [--timeout-s 120] [--max-new-tokens N]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"convllava.io/client"
	pb "convllava.io/client/convllavapb"
	"google.golang.org/grpc/status"
)

func main() {
	target := flag.String("target", "127.0.0.1:50051", "the coordinator, host:port")
	imagePath := flag.String("image", "", "image file (PNG, JPEG, ...) the question is about; none: a text-only question")
	prompt := flag.String("prompt", "", "the question")
	token := flag.String("token", "", "bearer token sent with the call (default: $CONVLLAVA_TOKEN)")
	tlsCA := flag.String("tls-ca", "", "PEM file of the authority the coordinator's certificate is checked against; none: plaintext")
	timeout := flag.Float64("timeout-s", 120, "deadline of the whole answer, seconds")
	maxNewTokens := flag.Int("max-new-tokens", 0, "most tokens to generate (0: the server's default)")
	flag.Parse()
	if *token == "" {
		*token = os.Getenv("CONVLLAVA_TOKEN")
	}
	if *prompt == "" {
		usage("--prompt is required")
	}
	if *timeout <= 0 {
		usage("--timeout-s must be > 0")
	}
	var image []byte
	if *imagePath != "" {
		var err error
		if image, err = os.ReadFile(*imagePath); err != nil {
			usage(fmt.Sprintf("cannot read --image: %v", err))
		}
	}

	conn, err := client.Dial(*target, *tlsCA)
	if err != nil {
		usage(err.Error())
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*timeout*float64(time.Second)))
	defer cancel()
	streamed := false
	final, err := client.New(conn, *token).Generate(ctx, client.Question(*prompt, image, int32(*maxNewTokens)),
		func(delta *pb.Delta) {
			fmt.Print(delta.Text)
			streamed = streamed || delta.Text != ""
		})
	if streamed {
		fmt.Println()
	}
	if err != nil {
		s := status.Convert(err)
		fmt.Fprintf(os.Stderr, "error: %s from %s: %s\n", client.CodeName(s.Code()), *target, s.Message())
		os.Exit(1)
	}
	for _, b := range final.Boxes {
		fmt.Printf("box: image %d normalized %s pixels [%.1f, %.1f, %.1f, %.1f]\n", b.ImageIndex,
			normalized(b.Normalized), b.X1, b.Y1, b.X2, b.Y2)
	}
	u := final.Usage
	fmt.Printf("finish: %s, %d prompt tokens (%d image), %d generated, %.0f ms\n", final.FinishReason,
		u.GetPromptTokens(), u.GetImageTokens(), u.GetCompletionTokens(), final.Timings.GetTotalMs())
}

func normalized(values []float32) string {
	s := "["
	for i, v := range values {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%.3f", v)
	}
	return s + "]"
}

func usage(problem string) {
	fmt.Fprintf(os.Stderr, "error: %s\n", problem)
	flag.Usage()
	os.Exit(2)
}
