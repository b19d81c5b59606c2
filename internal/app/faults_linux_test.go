package app_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/moteplass/moteplass/internal/app"
	"github.com/moteplass/moteplass/internal/app/apptest"
)

// TestFailingFileSystem: the file system under the database fails (ext4
// shut down, as the kernel does to a disk that returns errors; a remount
// read-only is refused while the database has its files open for
// writing). Sign-ups get the 503 page, pages that must read get it too
// rather than a 500, and /healthz says why. (Nothing can be read back
// afterwards to check what was stored: the file system is gone.)
func TestFailingFileSystem(t *testing.T) {
	asRoot(t)
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip("no mkfs.ext4")
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 32<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "-f", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device: %v %s", err, out) // containers often have none
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", loop).Run() })
	if out, err := exec.Command("mkfs.ext4", "-q", loop).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v %s", err, out)
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", loop, dir).CombinedOutput(); err != nil {
		refused(t, "mount ext4", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})

	a := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.DB = filepath.Join(dir, "moteplass.db") }})
	ev := privEvent(t, a, "dfo", 10*24*time.Hour, 50)
	token := privSignUp(t, a, ev.Slug, privForm("Før Feilen", "for.feilen@example.no"))
	shutDown(t, dir)

	signUpUnavailable(t, a, ev.Slug, "nb", privForm("Under Feilen", "under.feilen@example.no"))
	code, body := healthz(t, a)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database cannot be") {
		t.Fatalf("healthz on a failed file system: %d %q", code, body)
	}
	t.Logf("healthz on a failed file system: %d %q", code, body)
	// a page that reads is a 503 too when its read fails (SQLite may
	// still have the pages in memory: then it is shown)
	rec := apptest.NewClient(t, a.Router).Get("/r/" + token)
	if rec.Code != http.StatusOK {
		apptest.Want(t, rec, http.StatusServiceUnavailable)
	}
}

// shutDown makes every read and write of the ext4 file system at dir fail
// with EIO (EXT4_IOC_SHUTDOWN, without flushing its journal).
func shutDown(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const ext4IOCShutdown, noLogFlush = 0x8004587D, 2
	flags := uint32(noLogFlush)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), ext4IOCShutdown, uintptr(unsafe.Pointer(&flags))); e != 0 {
		t.Skipf("cannot shut the file system down: %v", e)
	}
}
