; colorize-tests.scm — the Script-Fu half of the gimp-console integration
; tests: runs plug-in-nn-colorize on the images test_gimp.c wrote into DIR,
; exports the results there and prints "RESULT …" lines for it to check.

(define (report . parts)
  (gimp-message (apply string-append "RESULT "
                       (map (lambda (p) (if (number? p) (number->string p) p)) parts))))

(define (yes-no b) (if b "yes" "no"))

(define (load-image path) (car (gimp-file-load RUN-NONINTERACTIVE path path)))

(define (export image drawable path) (gimp-file-save RUN-NONINTERACTIVE image drawable path path))

; Raw pixels (in the drawable's own format) on a grid, to compare bitwise.
(define (pixel-grid drawable)
  (let ((w (car (gimp-drawable-width drawable)))
        (h (car (gimp-drawable-height drawable)))
        (acc '()))
    (do ((y 0 (+ y 3))) ((>= y h))
      (do ((x 0 (+ x 4))) ((>= x w))
        (set! acc (cons (vector->list (cadr (gimp-drawable-get-pixel drawable x y))) acc))))
    acc))

; A gray pixel's bytes as the RGB pixel the mode conversion makes of it.
(define (gray->rgb px) (append px px px))

; One colorization at a precision: the source stays bitwise, the new layer
; is named "Colorized" and sits above the source, gray becomes RGB (the
; source of a gray image is compared after the conversion, which the
; plug-in does on purpose; gray pixel values stay the same).
(define (case-precision dir name precision gray)
  (let* ((image (load-image (string-append dir "/photo.png")))
         (src (car (gimp-image-get-active-layer image))))
    (if gray (gimp-image-convert-grayscale image))
    (if (not (= precision PRECISION-U8-GAMMA)) (gimp-image-convert-precision image precision))
    (let* ((before (pixel-grid src))
           (layer (car (plug-in-nn-colorize RUN-NONINTERACTIVE image src "" 0.5 1.0 256 -1)))
           (after (pixel-grid src))
           (layers (gimp-image-get-layers image)))
      ; export both layers as 8-bit perceptual PNG, so that the files compare
      ; the plug-in's work rather than PNG's handling of linear data
      (if (not (= precision PRECISION-U8-GAMMA)) (gimp-image-convert-precision image PRECISION-U8-GAMMA))
      (export image src (string-append dir "/" name "-src.png"))
      (export image layer (string-append dir "/" name "-out.png"))
      (report name " unchanged=" (yes-no (equal? (if gray (map gray->rgb before) before) after))
              " layers=" (car layers)
              " on-top=" (yes-no (= (vector-ref (cadr layers) 0) layer))
              " named=" (yes-no (equal? (car (gimp-item-get-name layer)) "Colorized"))
              " rgb=" (yes-no (= (car (gimp-image-base-type image)) RGB))
              " same-size=" (yes-no (and (= (car (gimp-drawable-width layer)) (car (gimp-drawable-width src)))
                                         (= (car (gimp-drawable-height layer)) (car (gimp-drawable-height src))))))
      (gimp-image-delete image))))

; Alpha is kept; the colour stays inside the selection.
(define (case-selection dir)
  (let* ((image (load-image (string-append dir "/alpha.png")))
         (src (car (gimp-image-get-active-layer image))))
    (gimp-context-set-feather FALSE)
    (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 60 30 60 50)
    (let ((layer (car (plug-in-nn-colorize RUN-NONINTERACTIVE image src "" 0.5 1.0 256 -1))))
      (gimp-selection-none image)
      (export image layer (string-append dir "/selection-out.png"))
      (report "selection alpha=" (yes-no (= (car (gimp-drawable-has-alpha layer)) TRUE)))
      (gimp-image-delete image))))

; Red strokes on a hint layer.
(define (case-hints dir)
  (let* ((image (load-image (string-append dir "/photo.png")))
         (src (car (gimp-image-get-active-layer image)))
         (w (car (gimp-image-width image)))
         (h (car (gimp-image-height image)))
         (hints (car (gimp-layer-new image w h RGBA-IMAGE "hints" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer image hints 0 -1)
    (gimp-drawable-fill hints FILL-TRANSPARENT)
    (gimp-context-set-foreground '(255 0 0))
    (gimp-context-set-feather FALSE)
    (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 20 20 40 4)
    (gimp-image-select-rectangle image CHANNEL-OP-ADD 20 30 40 4)
    (gimp-image-select-rectangle image CHANNEL-OP-ADD 20 40 40 4)
    (gimp-image-select-rectangle image CHANNEL-OP-ADD 20 50 40 4)
    (gimp-drawable-edit-fill hints FILL-FOREGROUND)
    (gimp-selection-none image)
    (let ((layer (car (plug-in-nn-colorize RUN-NONINTERACTIVE image src "" 0.0 1.0 256 hints))))
      (export image layer (string-append dir "/hints-out.png"))
      (report "hints done")
      (gimp-image-delete image))))

; A bad call fails with a PDB error and leaves the image as it was
; (hint -2 stands for the source layer itself).
(define (case-bad dir name model vividness saturation resolution hint indexed)
  (let* ((image (load-image (string-append dir "/photo.png")))
         (src (car (gimp-image-get-active-layer image))))
    (if indexed (gimp-image-convert-indexed image CONVERT-DITHER-NONE CONVERT-PALETTE-GENERATE 16 FALSE FALSE ""))
    (let* ((before (pixel-grid src))
           (type (car (gimp-image-base-type image)))
           (r (catch 'failed (plug-in-nn-colorize RUN-NONINTERACTIVE image src model vividness saturation
                                                   resolution (if (= hint -2) src hint)))))
      (report "bad-" name " error=" (yes-no (eq? r 'failed))
              " layers=" (car (gimp-image-get-layers image))
              " unchanged=" (yes-no (and (equal? before (pixel-grid src))
                                         (= type (car (gimp-image-base-type image)))))))
    (gimp-image-delete image)))

;; A call made by `call` on (image src) fails with a PDB error and leaves
;; the image as it was (its layer count is given, since some cases add one).
(define (case-bad-call dir name layers-before call)
  (case-bad-call-prepared dir name layers-before (lambda (image src) #t) call))

; The same, on the photo changed by (prepare image src) first.
(define (case-bad-call-prepared dir name layers-before prepare call)
  (let* ((image (load-image (string-append dir "/photo.png")))
         (src (car (gimp-image-get-active-layer image))))
    (prepare image src)
    (let* ((before (pixel-grid src))
           (r (catch 'failed (call image src))))
      (report "bad-" name " error=" (yes-no (eq? r 'failed))
              " layers=" (- (car (gimp-image-get-layers image)) layers-before -1)
              " unchanged=" (yes-no (equal? before (pixel-grid src)))))
    (gimp-image-delete image)))

; The photo's layer made 80x60 at (40, 30) of the 160x120 image.
(define (shrink-layer image src) (gimp-layer-resize src 80 60 -40 -30))

; The stroke acceptance case: a saturated disc of radius 60 px painted on a
; hint layer over a 512x384 photo, at the default settings.
(define (case-stroke dir)
  (let* ((image (load-image (string-append dir "/stroke-photo.png")))
         (src (car (gimp-image-get-active-layer image)))
         (hints (car (gimp-layer-new image 512 384 RGBA-IMAGE "strokes" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer image hints 0 -1)
    (gimp-drawable-fill hints FILL-TRANSPARENT)
    (gimp-context-set-foreground '(230 40 30))
    (gimp-context-set-antialias FALSE)
    (gimp-image-select-ellipse image CHANNEL-OP-REPLACE 196 132 120 120)
    (gimp-drawable-edit-fill hints FILL-FOREGROUND)
    (gimp-selection-none image)
    (let ((layer (car (plug-in-nn-colorize RUN-NONINTERACTIVE image src "" 0.5 1.0 256 hints))))
      (export image layer (string-append dir "/stroke-out.png"))
      (report "stroke on-top=" (yes-no (= (vector-ref (cadr (gimp-image-get-layers image)) 0) layer)))
      (gimp-image-delete image))))

; Point hints on a grayscale image, through the second procedure.
(define (case-points dir)
  (let* ((image (load-image (string-append dir "/photo.png")))
         (src (car (gimp-image-get-active-layer image))))
    (gimp-image-convert-grayscale image)
    (let ((layer (car (plug-in-nn-colorize-points RUN-NONINTERACTIVE image src "" 0.5 1.0 256 -1
                                                  "40,90,#2050e0; 120,90,#e03020"))))
      (export image layer (string-append dir "/points-out.png"))
      (report "points done")
      (gimp-image-delete image))))

; Point hints stored with the image, one damaged and one outside it (the
; image was cropped since): Repeat uses the good one and says once what it
; left out.
(define (case-stored-points dir)
  (let* ((image (load-image (string-append dir "/photo.png")))
         (src (car (gimp-image-get-active-layer image))))
    (gimp-image-convert-grayscale image)
    (gimp-image-attach-parasite image
      (list "colorize-neural-points" 1 "40,90,#2050e0;-3,2,#000000;999,5,#ffffff"))
    (let ((layer (car (plug-in-nn-colorize RUN-WITH-LAST-VALS image src "" 0.5 1.0 256 -1))))
      (export image layer (string-append dir "/stored-points-out.png"))
      (report "stored-points layers=" (car (gimp-image-get-layers image)))
      (gimp-image-delete image))))

;; Points stored with the image, one of them off the (smaller) layer that
; Repeat colorizes: it runs with the other, and says so once.
(define (case-stored-points-off-layer dir)
  (let* ((image (load-image (string-append dir "/photo.png")))
         (src (car (gimp-image-get-active-layer image))))
    (shrink-layer image src)
    (gimp-image-attach-parasite image (list "colorize-neural-points" 1 "10,10,#2050e0;60,50,#ff0000"))
    (let ((layer (car (plug-in-nn-colorize RUN-WITH-LAST-VALS image src "" 0 1.0 256 -1))))
      (report "stored-off-layer layers=" (car (gimp-image-get-layers image)))
      (gimp-image-delete image))))

; A plain image of one colour, as a colour reference; returns its layer.
(define (reference-image rgb)
  (let* ((image (car (gimp-image-new 64 48 RGB)))
         (layer (car (gimp-layer-new image 64 48 RGB-IMAGE "reference" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer image layer 0 0)
    (gimp-context-set-foreground rgb)
    (gimp-drawable-edit-fill layer FILL-FOREGROUND)
    ; a darker and a lighter band of the same hue, so that every lightness has it
    (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 0 0 64 16)
    (gimp-drawable-brightness-contrast layer -0.4 0)
    (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 0 32 64 16)
    (gimp-drawable-brightness-contrast layer 0.4 0)
    (gimp-selection-none image)
    layer))

; A colour reference through the third procedure: a warm one and a cool one.
(define (case-reference dir)
  (let* ((warm (reference-image '(220 120 40)))
         (cool (reference-image '(40 110 220))))
    (for-each
      (lambda (ref name)
        (let* ((image (load-image (string-append dir "/photo.png")))
               (src (car (gimp-image-get-active-layer image)))
               (layer (car (plug-in-nn-colorize-reference RUN-NONINTERACTIVE image src "" 0 1.0 256 -1 "" ref 1.0))))
          (export image layer (string-append dir "/reference-" name "-out.png"))
          (gimp-image-delete image)))
      (list warm cool) (list "warm" "cool"))
    (report "reference done")
    (gimp-image-delete (car (gimp-item-get-image warm)))
    (gimp-image-delete (car (gimp-item-get-image cool)))))

(define (run-colorize-tests dir)
  (case-precision dir "gray-u8" PRECISION-U8-GAMMA #t)
  (case-precision dir "rgb-u8" PRECISION-U8-GAMMA #f)
  (case-precision dir "u8-linear" PRECISION-U8-LINEAR #f)
  (case-precision dir "u16-gamma" PRECISION-U16-GAMMA #f)
  (case-precision dir "u16-linear" PRECISION-U16-LINEAR #t)
  (case-precision dir "half-linear" PRECISION-HALF-LINEAR #f)
  (case-precision dir "float-linear" PRECISION-FLOAT-LINEAR #f)
  (case-precision dir "float-gamma" PRECISION-FLOAT-GAMMA #t)
  (case-precision dir "u32-linear" PRECISION-U32-LINEAR #f)
  (case-selection dir)
  (case-hints dir)
  (case-bad dir "missing-model" "/nonexistent/model.weights" 0.5 1.0 256 -1 #f)
  (case-bad dir "corrupt-model" (string-append dir "/corrupt.weights") 0.5 1.0 256 -1 #f)
  (case-bad dir "resolution-0" "" 0.5 1.0 0 -1 #f)
  (case-bad dir "vividness-2" "" 2.0 1.0 256 -1 #f)
  (case-bad dir "saturation-3" "" 0.5 3.0 256 -1 #f)
  (case-bad dir "hint-99999" "" 0.5 1.0 256 99999 #f)
  (case-bad dir "hint-self" "" 0.5 1.0 256 -2 #f)
  (case-bad dir "indexed" "" 0.5 1.0 256 -1 #t)
  (case-stroke dir)
  (case-points dir)
  (case-bad-call dir "points-syntax" 1
    (lambda (image src) (plug-in-nn-colorize-points RUN-NONINTERACTIVE image src "" 0.5 1.0 256 -1 "10,10,red")))
  (case-bad-call dir "points-negative" 1
    (lambda (image src) (plug-in-nn-colorize-points RUN-NONINTERACTIVE image src "" 0.5 1.0 256 -1 "-5,40,#ff0000")))
  (case-bad-call dir "points-outside" 1
    (lambda (image src) (plug-in-nn-colorize-points RUN-NONINTERACTIVE image src "" 0.5 1.0 256 -1 "40,90,#2050e0;500,90,#ff0000")))
  (case-bad-call-prepared dir "points-off-layer" 1 shrink-layer
    (lambda (image src) (plug-in-nn-colorize-points RUN-NONINTERACTIVE image src "" 0 1.0 256 -1 "10,10,#ff0000")))
  (case-stored-points dir)
  (case-stored-points-off-layer dir)
  (case-reference dir)
  (case-bad-call dir "reference-gray" 1
    (lambda (image src)
      (let ((gray (reference-image '(128 128 128))))
        (plug-in-nn-colorize-reference RUN-NONINTERACTIVE image src "" 0 1.0 256 -1 "" gray 1.0))))
  (case-bad-call dir "reference-weight-0" 1
    (lambda (image src)
      (plug-in-nn-colorize-reference RUN-NONINTERACTIVE image src "" 0 1.0 256 -1 "" src 0.0)))
  (case-bad-call dir "hint-group" 2
    (lambda (image src)
      (let ((group (car (gimp-layer-group-new image))))
        (gimp-image-insert-layer image group 0 0)
        (plug-in-nn-colorize RUN-NONINTERACTIVE image src "" 0 1.0 256 group))))
  (case-bad-call dir "hint-result" 2
    (lambda (image src)
      (let ((result (car (plug-in-nn-colorize RUN-NONINTERACTIVE image src "" 0 1.0 256 -1))))
        (plug-in-nn-colorize RUN-NONINTERACTIVE image src "" 0 1.0 256 result))))
  (case-bad-call dir "hint-channel" 1
    (lambda (image src)
      (let ((channel (car (gimp-channel-new image 160 120 "mask" 50 '(0 0 0)))))
        (gimp-image-insert-channel image channel 0 0)
        (plug-in-nn-colorize RUN-NONINTERACTIVE image src "" 0.5 1.0 256 channel))))
  (case-bad-call dir "hint-mask" 2
    (lambda (image src)
      (let* ((other (car (gimp-layer-copy src TRUE)))
             (mask (car (gimp-layer-create-mask other ADD-MASK-WHITE))))
        (gimp-image-insert-layer image other 0 0)
        (gimp-layer-add-mask other mask)
        (plug-in-nn-colorize RUN-NONINTERACTIVE image src "" 0.5 1.0 256 mask))))
  (case-bad-call dir "group" 2
    (lambda (image src)
      (let ((group (car (gimp-layer-group-new image))))
        (gimp-image-insert-layer image group 0 0)
        (plug-in-nn-colorize RUN-NONINTERACTIVE image group "" 0.5 1.0 256 -1))))
  (report "finished"))
