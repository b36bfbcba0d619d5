#!/usr/bin/env bash
# Writes a Homebrew formula (broker.rb) and a Scoop manifest (broker.json) for a release into
# DIR, from the release archives there, with their SHA-256 sums:
#   broker-VERSION-aarch64-apple-darwin.tar.gz, broker-VERSION-x86_64-unknown-linux-musl.tar.gz
#   (formula), broker-VERSION-x86_64-pc-windows-msvc.zip (manifest).
# Usage: scripts/release-manifests.sh VERSION DIR URL, where URL is where the archives are
# downloaded from (the release's download folder). The workflow runs it on a v* tag.
set -euo pipefail
[ $# = 3 ] || { echo "usage: $0 VERSION DIR URL" >&2; exit 2; }
version=$1 dir=$2 url=${3%/}
sum() { sha256sum "$dir/$1" | cut -d' ' -f1; }
mac=broker-$version-aarch64-apple-darwin.tar.gz
linux=broker-$version-x86_64-unknown-linux-musl.tar.gz
windows=broker-$version-x86_64-pc-windows-msvc.zip
for f in "$mac" "$linux" "$windows"; do
  [ -f "$dir/$f" ] || { echo "release-manifests: no $dir/$f" >&2; exit 1; }
done
cat >"$dir/broker.rb" <<END
class Broker < Formula
  desc "AWS credential broker: keys in the OS keychain, short-lived credentials out"
  version "$version"
  license "MIT"
  on_macos do
    url "$url/$mac"
    sha256 "$(sum "$mac")"
  end
  on_linux do
    url "$url/$linux"
    sha256 "$(sum "$linux")"
  end

  def install
    bin.install "broker"
    man1.install Dir["man/*.1"]
    bash_completion.install "completions/broker.bash" => "broker"
    zsh_completion.install "completions/_broker"
    fish_completion.install "completions/broker.fish"
  end

  test do
    assert_match "broker #{version}", shell_output("#{bin}/broker --version")
  end
end
END
cat >"$dir/broker.json" <<END
{
  "version": "$version",
  "description": "AWS credential broker: keys in the OS keychain, short-lived credentials out",
  "license": "MIT",
  "architecture": {
    "64bit": {
      "url": "$url/$windows",
      "hash": "$(sum "$windows")"
    }
  },
  "bin": "broker.exe"
}
END
echo "$dir/broker.rb"
echo "$dir/broker.json"
