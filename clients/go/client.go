// Package client is a thin Go client of a ConvLLaVA cluster's public API (convllava.v1.ConvLlava), served by every
// coordinator. The generated messages and stubs are in package convllavapb.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	pb "convllava.io/client/convllavapb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
)

// Client calls one coordinator over a connection the caller owns (and closes).
type Client struct {
	stub  pb.ConvLlavaClient
	token string
}

// New returns a client over conn; token, when not empty, is sent as "authorization: Bearer <token>" with every call.
func New(conn grpc.ClientConnInterface, token string) *Client {
	return &Client{stub: pb.NewConvLlavaClient(conn), token: token}
}

// Dial connects to target (host:port): over TLS trusting the PEM certificates in caFile, or in plaintext when caFile
// is empty (a development cluster such as "convllava local").
func Dial(target, caFile string) (*grpc.ClientConn, error) {
	if caFile == "" {
		return grpc.Dial(target, grpc.WithInsecure())
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read the TLS CA file: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the TLS CA file %s holds no PEM certificate", caFile)
	}
	return grpc.Dial(target, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots})))
}

// Question is a request about one image (nil: none): a single USER message, greedy, with at most maxNewTokens
// generated (0: the server's default).
func Question(prompt string, image []byte, maxNewTokens int32) *pb.GenerateRequest {
	message := &pb.Message{Role: pb.Message_USER, Text: prompt}
	if image != nil {
		message.Images = []*pb.Image{{Source: &pb.Image_Data{Data: image}}}
	}
	return &pb.GenerateRequest{Messages: []*pb.Message{message}, MaxNewTokens: maxNewTokens}
}

// Generate sends request and hands every Delta to onDelta as it arrives; it returns the Final event, or the call's
// error (a gRPC status: status.Code(err)). The deadline is ctx's.
func (c *Client) Generate(ctx context.Context, request *pb.GenerateRequest, onDelta func(*pb.Delta)) (*pb.Final, error) {
	stream, err := c.stub.Generate(c.authorized(ctx), request)
	if err != nil {
		return nil, err
	}
	for {
		event, err := stream.Recv()
		if err == io.EOF {
			return nil, fmt.Errorf("the coordinator ended the stream without a Final event")
		}
		if err != nil {
			return nil, err
		}
		switch e := event.Event.(type) {
		case *pb.GenerateResponse_Delta:
			onDelta(e.Delta)
		case *pb.GenerateResponse_Final:
			return e.Final, nil
		}
	}
}

// ListModels lists the models the cluster serves, the default first.
func (c *Client) ListModels(ctx context.Context) ([]*pb.ModelInfo, error) {
	response, err := c.stub.ListModels(c.authorized(ctx), &pb.ListModelsRequest{})
	if err != nil {
		return nil, err
	}
	return response.Models, nil
}

func (c *Client) authorized(ctx context.Context) context.Context {
	if c.token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
}

// CodeName is a status code as the gRPC specification spells it (DEADLINE_EXCEEDED), as other languages print it.
func CodeName(code codes.Code) string {
	var name strings.Builder
	for i, r := range code.String() {
		if i > 0 && unicode.IsUpper(r) {
			name.WriteByte('_')
		}
		name.WriteRune(unicode.ToUpper(r))
	}
	return name.String()
}
