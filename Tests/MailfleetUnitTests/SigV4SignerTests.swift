import Foundation
import MailfleetProviderFormats
import Testing

/// Cases from AWS's published Signature Version 4 test suite (aws-sig-v4-test-suite): fixed
/// credentials, region `us-east-1`, service `service`, date 2015-08-30T12:36:00Z.
@Suite struct SigV4SignerTests {
    let signer = SigV4Signer(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "us-east-1", service: "service")
    let date = Date(timeIntervalSince1970: 1_440_938_160)  // 20150830T123600Z
    let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    @Test func getVanilla() {
        let s = signer.sign(method: "GET", url: "https://example.amazonaws.com/", headers: [("Host", "example.amazonaws.com")], body: [], date: date)
        #expect(s.canonicalRequest == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)")
        #expect(s.stringToSign == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
        #expect(s.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(s.headers.contains { $0.name == "X-Amz-Date" && $0.value == "20150830T123600Z" })
    }

    @Test func getVanillaQueryOrderKeyCase() {
        let s = signer.sign(method: "GET", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1", headers: [], body: [], date: date)
        #expect(s.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "Param1=value1&Param2=value2")
        #expect(s.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func postXWWWFormURLEncoded() {
        let s = signer.sign(
            method: "POST", url: "https://example.amazonaws.com/",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com")],
            body: Array("Param1=value1".utf8), date: date)
        #expect(s.canonicalRequest == "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        #expect(s.stringToSign.hasSuffix("\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"))
        #expect(s.authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    @Test func pathsAreNormalisedAndEncodedOnce() {
        let s = signer.sign(method: "GET", url: "https://example.amazonaws.com/a/./b/../c%20d/", headers: [], body: [], date: date)
        #expect(s.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[1] == "/a/c%20d/")
    }

    @Test func aSessionTokenIsSignedAndSent() {
        var withToken = signer
        withToken.sessionToken = "token"
        let s = withToken.sign(method: "GET", url: "https://example.amazonaws.com/", headers: [], body: [], date: date)
        #expect(s.authorization.contains("SignedHeaders=host;x-amz-date;x-amz-security-token"))
        #expect(s.headers.contains { $0.name == "X-Amz-Security-Token" && $0.value == "token" })
    }
}
