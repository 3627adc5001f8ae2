// Package shell owns the kernel's serial console shell: it reads lines from
// the console, echoes what it reads as a terminal expects, and runs commands
// from a registry. It is portable: the board hands it the console and the
// machine operations, so the same shell is tested on the host.
package shell

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Prompt is printed before every line the shell reads.
const Prompt = "hachi# "

// ErrExit ends Run without error: a command returns it to stop the shell.
var ErrExit = errors.New("shell: exit")

// Command is one shell command.
type Command struct {
	// Name is the first word of the line that runs the command.
	Name string
	// Usage lists the arguments, as in "SYMBOL SECONDS".
	Usage string
	// Help is a one-line description shown by help.
	Help string
	// Run executes the command; args excludes the name. Output goes to out.
	Run func(out io.Writer, args []string) error
}

// Shell reads command lines from a console and runs them.
type Shell struct {
	in       *bufio.Reader
	out      io.Writer
	echo     bool
	commands map[string]Command
}

// New returns a shell reading in and writing out. With echo set, the shell
// writes back every character it reads, as a serial terminal expects.
func New(in io.Reader, out io.Writer, echo bool) *Shell {
	s := &Shell{
		in:       bufio.NewReader(in),
		out:      out,
		echo:     echo,
		commands: make(map[string]Command),
	}
	s.Register(Command{Name: "help", Help: "list the commands", Run: s.help})
	return s
}

// Register adds commands, replacing any of the same name.
func (s *Shell) Register(cmds ...Command) {
	for _, c := range cmds {
		s.commands[c.Name] = c
	}
}

// Run prints the prompt, reads a line and runs it, until the input ends or
// a command returns ErrExit. A failing command prints its error and the
// shell goes on, as a shell does.
func (s *Shell) Run() error {
	for {
		fmt.Fprint(s.out, Prompt)
		line, err := s.readLine()
		if err == io.EOF {
			fmt.Fprintln(s.out)
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Exec(line); err == ErrExit {
			return nil
		} else if err != nil {
			fmt.Fprintf(s.out, "%v\n", err)
		}
	}
}

// Exec runs one command line.
func (s *Shell) Exec(line string) error {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil
	}
	c, ok := s.commands[fields[0]]
	if !ok {
		return fmt.Errorf("%s: command not found (try help)", fields[0])
	}
	return c.Run(s.out, fields[1:])
}

// readLine reads up to a carriage return or a line feed, handling backspace
// and delete. A CR LF pair counts as one end of line.
func (s *Shell) readLine() (string, error) {
	var line []byte
	for {
		c, err := s.in.ReadByte()
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				return string(line), nil
			}
			return "", err
		}
		switch c {
		case '\r', '\n':
			if c == '\r' {
				if next, err := s.in.Peek(1); err == nil && next[0] == '\n' {
					s.in.ReadByte()
				}
			}
			if s.echo {
				io.WriteString(s.out, "\n")
			}
			return string(line), nil
		case '\b', 0x7f:
			if len(line) > 0 {
				line = line[:len(line)-1]
				if s.echo {
					io.WriteString(s.out, "\b \b")
				}
			}
		default:
			if c < ' ' {
				continue
			}
			line = append(line, c)
			if s.echo {
				s.out.Write([]byte{c})
			}
		}
	}
}

func (s *Shell) help(out io.Writer, _ []string) error {
	names := make([]string, 0, len(s.commands))
	for name := range s.commands {
		names = append(names, name)
	}
	sort.Strings(names)
	width := 0
	for _, name := range names {
		width = max(width, len(synopsis(s.commands[name])))
	}
	for _, name := range names {
		c := s.commands[name]
		fmt.Fprintf(out, "%-*s  %s\n", width, synopsis(c), c.Help)
	}
	return nil
}

// synopsis is a command's name and usage.
func synopsis(c Command) string {
	return strings.TrimSpace(c.Name + " " + c.Usage)
}
